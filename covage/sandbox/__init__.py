"""A simulated Covage API, written from the documents (never from covage.client/schemas).

Served alone by `manage.py runsandbox` (gunicorn, covage.sandbox.wsgi, covage.sandbox.urls).
Behaviour is tuned at request time by the knobs of `settings.COVAGE_SANDBOX` (see knobs.py);
the rules of the lifecycle and their termination_error codes are described in lifecycle.py.
"""
