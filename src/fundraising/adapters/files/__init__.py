"""Files: local storage for uploads and covers, and Pillow image processing."""
