"""Forms of the runs page: start an audit or a retraining, the retraining policy."""

from __future__ import annotations

from django import forms

from auditor.runs.schedules import EVERY
from tagging.configs import FRONT_ENDS, MODEL_CONFIGS


class StartRunForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("audit", "Audit (train, score, refill the queue)"), ("retrain", "Retrain on the corrected labels")]
    )
    folds = forms.IntegerField(min_value=2, max_value=20, initial=5)
    epochs = forms.IntegerField(min_value=1, max_value=500, initial=45, help_text="most epochs per fold")
    model = forms.ChoiceField(choices=[(name, name) for name in sorted(MODEL_CONFIGS)], initial="small")
    front_end = forms.ChoiceField(
        choices=[("", "none")]
        + [(name, f"{name}: {trained.removeprefix('musicnn, ')}") for name, trained in sorted(FRONT_ENDS.items())],
        required=False,
        label="Pretrained front-end",
        help_text="its embedding of each clip joins the models (about 0.1 s a 5-second clip on two CPU cores); never "
        "choose one trained on the dataset you audit: its scores would not be out of sample",
    )

    def params(self) -> dict:
        return {key: self.cleaned_data[key] for key in ("folds", "epochs", "model", "front_end")}


class RetrainPolicyForm(forms.Form):
    threshold = forms.IntegerField(
        min_value=0,
        max_value=1_000_000,
        required=False,
        help_text="retrain once this many labels were verified since the last training; empty: the site default; "
        "0: never by count",
    )
    every = forms.ChoiceField(choices=[(key, key) for key in EVERY], label="also retrain")
    hour = forms.IntegerField(min_value=0, max_value=23, label="at hour")
