"""Teaching new classes from the live view, in seconds, without a restart.

store.py    examples kept as photos in the state dir (with their embeddings cached), labels checked,
            the taught model written atomically with a note of what it was taught from
models.py   which model runs live: the base, or the model taught on it, with its pooled embedding
            as a second output (so an example from the camera costs no extra inference)
teacher.py  add examples (the current frame, or an uploaded photo), train a head on them with
            edge_app.train's code, swap the running model, reset
http.py     the /api/teach endpoints of the live view

The taught model is a plain .tflite like `edge-app train` writes: the base with a new head,
quantized like it, labels embedded.
"""
