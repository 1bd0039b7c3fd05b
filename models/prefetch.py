"""`python -m models.prefetch [name ...]`: fetch the pretrained weights ahead of class (see models.vision.prefetch)."""
import sys

from models.vision.prefetch import main

if __name__ == "__main__":
    sys.exit(main())
