"""Training the text emotion model (MiniLM + head) that inference/emotion_text.py runs."""
