from serverkit import LiveServer


def test_check_health_answers_200_with_a_readable_text(server: LiveServer) -> None:
    with server.http() as http:
        response = http.get("/check_health")
    assert response.status_code == 200
    assert response.text == "healthy\n"


def test_a_doubled_slash_reaches_the_same_route(server: LiveServer) -> None:
    with server.http() as http:
        response = http.get(server.url + "//check_health")
    assert response.status_code == 200


def test_check_health_answers_500_when_the_database_is_gone(server: LiveServer) -> None:
    server.runtime.engine.dispose()
    if server.settings.db_url.startswith("sqlite"):
        db_file = server.data_dir / "supportbox.db"
        for extra in ("-wal", "-shm"):
            server.data_dir.joinpath("supportbox.db" + extra).unlink(missing_ok=True)
        db_file.unlink()
        db_file.mkdir()  # a folder where the database was: cannot be opened
    else:
        from serverkit import drop_database

        drop_database(server.settings.db_url)
    with server.http() as http:
        response = http.get("/check_health")
    assert response.status_code == 500
    assert response.text.startswith("unhealthy: ")
