"""Who and what exists: users, teams, issues, sites, API accounts.

Functions here take an open SQLAlchemy session, validate their input,
raise from :mod:`supportbox.errors`, and leave committing to the caller.
The command line and the admin pages both go through them.
"""
