"""What education and devices measure (R-U4, R-D4): misoperation, attempts before success, help
views per age band; recall success and latency per device model and platform, counted on
recalls (their decisions), never on HTTP requests."""
