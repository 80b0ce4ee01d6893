"""What tests/ and bench/ both use: the app served and driven in Chromium, its in-page components, a
corpus of synthetic phone photos, and the cost of reading one upload in a fresh process."""
