"""The Command API (spec 4): ``/api/command?action=...``.

One module per family of actions; each registers its actions in
:mod:`.registry` with the access they need. :mod:`.endpoint` is the HTTP
side: parameters, authentication, permission, the XML answer.
"""
