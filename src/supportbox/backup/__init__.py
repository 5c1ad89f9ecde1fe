"""Backups of a whole installation and their restore (docs/backup.md).

* :mod:`~supportbox.backup.format` — the archive layout and cell codec.
* :mod:`~supportbox.backup.crypto` — the optional password encryption.
* :mod:`~supportbox.backup.snapshot` — one consistent read of every table.
* :mod:`~supportbox.backup.writer` — produces an archive, streaming.
* :mod:`~supportbox.backup.stream` — runs the writer in a worker thread
  and hands its bytes to an HTTP response.
* :mod:`~supportbox.backup.reader` — opens and verifies an archive.
* :mod:`~supportbox.backup.restore` — writes it into an empty target.
"""
