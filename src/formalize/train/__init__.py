"""The training flywheel: labels for training data (``labels``), the GRPO rewards (``rewards``),
training settings (``config``), the TRL recipes (``recipes``) and the training card (``card``).

Importing this package (or ``labels``, ``rewards``, ``config``, ``card``) needs neither torch nor
TRL; ``recipes`` imports them when a training starts (``pip install -e '.[train]'``).
"""
