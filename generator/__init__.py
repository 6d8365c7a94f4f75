"""Static gallery generator: see inside a simple CNN trained on MNIST."""
