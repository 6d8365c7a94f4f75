"""The ascent core: gradient ascent on a network's input, built from parts as in lucid's optvis
and tf-keras-vis: objectives (what to climb), transforms (jitter, scale, blur, clip), a
parameterization (pixels; room for Fourier), the render loop, and callbacks (snapshots, curves,
progress). OIPs, node patterns, carving and layer dreams all run on it."""
