"""The end-user web console at ``/``: server-rendered pages (Jinja2) with a little vanilla
JavaScript, in zh-CN and en, that act through the HTTP API with a token bound to one user and
one of their devices. Every asset is package data served by hongbao itself: nothing is fetched
from the network at run time."""
