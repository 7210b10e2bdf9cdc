"""Convert musicnn's pretrained weights (TensorFlow 1 checkpoints inside the ISC-licensed `musicnn` wheel) into the
arrays `tagging.front_end` loads, and write the reference output its test compares the PyTorch port with.

Run once, by hand, in a separate environment; the product and its tests need neither TensorFlow nor the wheel:

    python -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu tf-keras
    pip download musicnn==0.1.0 --no-deps -d /tmp/musicnn && unzip /tmp/musicnn/*.whl -d /tmp/musicnn/wheel
    TF_USE_LEGACY_KERAS=1 /tmp/tfenv/bin/python tools/convert_musicnn.py /tmp/musicnn/wheel

Only the front- and mid-end are kept (what the embedding reads: the mid-end's max and mean over time); the
back-end's dense layers, which map those to musicnn's own 50 tags, are left out.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODELS = {"musicnn-msd": "MSD_musicnn", "musicnn-mtt": "MTT_musicnn"}
KEPT = ("batch_normalization", "conv2d")  # scopes of the front- and mid-end (the back-end is dense/, and BN 9, 10)
BACK_END_NORMS = ("batch_normalization_9/", "batch_normalization_10/")
PATCH_FRAMES, MELS = 187, 96


def reference_input() -> np.ndarray:
    """Two patches of log-mel-like values (log10(1 + 10000·power)): a fixed draw, smooth in time and frequency."""
    rng = np.random.default_rng(20191104)
    power = rng.gamma(0.6, 1e-3, size=(2, PATCH_FRAMES, MELS))
    kernel = np.ones(5) / 5
    power = np.apply_along_axis(lambda row: np.convolve(row, kernel, mode="same"), 1, power)
    return np.log10(1.0 + 10000.0 * power).astype(np.float32)


def main() -> None:
    wheel = Path(sys.argv[1])
    sys.path.insert(0, str(wheel))
    import tensorflow as tf
    from musicnn import models  # the wheel's own model code builds the reference graph

    tf.compat.v1.disable_eager_execution()
    patches = reference_input()
    reference: dict[str, np.ndarray] = {"input": patches}
    for name, folder in MODELS.items():
        prefix = str(wheel / "musicnn" / folder) + "/"
        reader = tf.compat.v1.train.NewCheckpointReader(prefix)
        weights = {
            key: reader.get_tensor(key).astype(np.float32)
            for key in reader.get_variable_to_shape_map()
            if key.startswith(KEPT) and "Adam" not in key and not key.startswith(BACK_END_NORMS)
        }
        np.savez_compressed(ROOT / "tagging" / "front_ends" / f"{name}.npz", **weights)
        tf.compat.v1.reset_default_graph()
        x = tf.compat.v1.placeholder(tf.float32, [None, PATCH_FRAMES, MELS])
        outputs = models.define_model(x, False, folder, 50)
        mean_pool, max_pool = outputs[6], outputs[7]
        with tf.compat.v1.Session() as session:
            tf.compat.v1.train.Saver().restore(session, prefix)
            maxima, means = session.run([max_pool, mean_pool], feed_dict={x: patches})
        reference[name] = np.concatenate([maxima, means], axis=1)
        print(f"{name}: {len(weights)} arrays, {sum(w.size for w in weights.values()):,} weights")
    np.savez_compressed(ROOT / "tests" / "fixtures" / "musicnn_reference.npz", **reference)


if __name__ == "__main__":
    main()
