"""The table of sub-commands: name -> (module of :mod:`deepsteg.cli`, one-line help).

Light on purpose: ``deepsteg --help`` and ``--version`` read only this table, so they start
without importing torch; a command's module (and what it needs) is imported when it runs.
"""

COMMANDS: dict[str, tuple[str, str]] = {
    "hide": ("hide_reveal", "hide SECRET inside COVER, writing an 8-bit PNG"),
    "reveal": ("hide_reveal", "reveal the secret hidden in STEGO (a file or a folder)"),
    "models": ("models", "list the registered models"),
    "train": ("train", "train a model on a folder of images"),
    "export": ("export", "export a training run as a .safetensors model file"),
    "import-keras": ("keras", "import the original Keras DeepSteg .hdf5 weights (needs h5py)"),
    "eval": ("evaluate", "measure models against the baselines on folders of images"),
    "serve": ("serve", "serve a web page to hide and reveal images (needs the 'web' extra)"),
    "detect": ("detect", "steganalysis: ROC AUC of classical and learned detectors per method"),
    "analyze": ("analyze", "figure and report for one pair: residuals, histograms, leakage"),
    "robustness": ("analyze", "secret PSNR after JPEG, noise, rescaling and cropping of the stego"),
}


def help_of(name: str) -> str:
    return COMMANDS[name][1]
