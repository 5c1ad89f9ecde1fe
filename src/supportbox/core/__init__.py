"""The core: session state, queues, routing and events as plain objects.

Nothing in here opens a socket. :mod:`~supportbox.core.session` holds the
rules of one session; :mod:`~supportbox.core.hub` applies them to stored
sessions and hands the resulting events to storage, the observers and the
broker.
"""
