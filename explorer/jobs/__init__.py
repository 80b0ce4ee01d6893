"""Background work with no Streamlit: one job queue, the training and map jobs on it, their files, and
the bound on heavy requests."""
