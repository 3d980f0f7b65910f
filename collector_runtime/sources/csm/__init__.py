"""The Client-Side Monitoring source: UDP datagrams (or replayed captures) decoded into observed calls."""
