"""The VAE Latent Explorer app (Streamlit): views, their shared widgets, state, figures and words.

app.py is the entry; the computations it shows live in the `vae` library, which knows no screen.
"""
