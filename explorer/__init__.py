"""The VAE Latent Explorer app (Streamlit); app.py is its entry.

- pages/: one module per view, each with its own "what to look for" and `render(ctx)`.
- ui/: the Streamlit pieces the pages are built from (widgets, figures, pictures, the picker, components).
- state/: a session's state and the address's (links); the pure rules over them.
- service/: the thin Streamlit service: shared resources, the queues, a session's side of a job.
- jobs/: background work with no Streamlit: the job queue, the training and map jobs, their files.
- words/: the app's words.
- context.py: what every page gets; settings.py: the operator's settings, parsed once.

The computations it shows live in the `vae` library, which knows no screen.
"""
