"""Streamlit components that run in the page: the decoder in JavaScript, its sliders and the 2-D latent pad."""
