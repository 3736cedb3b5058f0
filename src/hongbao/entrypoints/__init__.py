"""The ways in: the HTTP API (``http``), its operations side (``ops``), the command line
(``cli``) and the background worker. Entry points parse, build a command, run it through the
contexts' services and render the answer; the rules live in the contexts."""
