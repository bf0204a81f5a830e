"""Remote models: header-only reads over HTTP Range requests (``https://``) and Hugging Face Hub repos (``hf://``)."""
