# The explorer on the shipped models, CPU only.
#   docker build -t vae-explorer .
#   docker run --rm -p 8501:8501 vae-explorer      → http://localhost:8501
# Several replicas behind nginx with sticky sessions: deploy/compose.yaml; Kubernetes: deploy/kubernetes/.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --create-home --uid 1000 explorer
WORKDIR /app

COPY requirements.txt .
# PyTorch's CPU wheels: the same pinned versions without the multi-GB CUDA libraries.
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt

COPY --chown=explorer:explorer vae/ vae/
COPY --chown=explorer:explorer explorer/ explorer/
COPY --chown=explorer:explorer checkpoints/ checkpoints/
COPY --chown=explorer:explorer .streamlit/ .streamlit/
COPY --chown=explorer:explorer app.py pyproject.toml README.md ./
# The `vae` command too; the pinned dependencies are already in place.
RUN pip install --no-deps --no-build-isolation .

USER explorer
# MNIST's training split for "Train a model" (the test split ships in checkpoints/mnist), in the image.
ENV VAE_DATA_DIR=/home/explorer/data
RUN python -m vae data
# In a container the app listens on every interface (the container's network is the boundary);
# scripts/start.sh outside one binds loopback. One process per container: replicate containers.
ENV VAE_EXPLORER_ADDRESS=0.0.0.0 VAE_EXPLORER_PORT=8501
# Memory that sessions free goes back to the system (see scripts/start.sh).
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=1048576
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"VAE_EXPLORER_PORT\"]}/_stcore/health', timeout=4)"
CMD python -m explorer.settings && exec streamlit run app.py --server.address="$VAE_EXPLORER_ADDRESS" --server.port="$VAE_EXPLORER_PORT" --server.headless=true
