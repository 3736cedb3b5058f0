"""Who is asking: signed bearer tokens, their revocation, callers on the money path and the
device a request came from."""
