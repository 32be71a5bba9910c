"""Pure domain logic: plain values in, decisions out. No Redis, no Dash, no sockets."""
