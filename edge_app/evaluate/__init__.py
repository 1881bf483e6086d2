"""Measuring models on labelled photos: datasets, parallel inference, metrics, confusion matrix, comparison."""
