"""Browser logins shared by the admin interface and the console.

* :mod:`.store` — server-side web sessions (hashed ids, expiry, revocation)
* :mod:`.guard` — who is logged in, what they may open, CSRF checks
* :mod:`.login` — the login, second-factor, logout and enrolment pages
* :mod:`.totp` — RFC 6238 codes through pyotp

Audit rows go through :mod:`supportbox.auth.audit`.
"""
