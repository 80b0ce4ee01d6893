"""The thin Streamlit service: the server's shared resources and queues, and a session's side of a job."""
