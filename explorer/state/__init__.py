"""A session's state and the address's: what a session holds, what a link carries, and the pure rules over them."""
