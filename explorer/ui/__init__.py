"""The Streamlit pieces the pages are built from: widgets, figures, pictures, colours, the picker,
navigation and the in-page components."""
