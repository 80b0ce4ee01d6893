"""A class session: the teacher opens a class, students join with its code and send what they found;
the teacher's board shows it live. store.py keeps it (no Streamlit)."""
