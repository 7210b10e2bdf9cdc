"""Forms of the admin pages."""

from __future__ import annotations

from django import forms
from django.forms import modelformset_factory

from auditor.datasets.models import Tag

MAX_WEIGHT = 1000.0


class TagPriorityForm(forms.ModelForm):
    weight = forms.FloatField(
        min_value=0.0, max_value=MAX_WEIGHT, widget=forms.NumberInput(attrs={"step": "0.1", "class": "weight"})
    )

    class Meta:
        model = Tag
        fields = ["weight", "description", "focus", "active", "extra_calibration"]
        widgets = {
            "description": forms.TextInput(attrs={"class": "description"}),
            "extra_calibration": forms.NumberInput(attrs={"class": "count", "min": 0}),
        }


TagPriorityFormSet = modelformset_factory(Tag, form=TagPriorityForm, extra=0, can_delete=False)
