"""Ops made of ops: composites, the augmentation policies, AugMix.

`composite` (the base: child ops gated per example), `choice`
(`RandomChoice`, `RandomApply`), `policy_ops` (the table of the
policies' ops), `rand_augment` (RandAugment, TrivialAugment), `augmix`.
Imports ``_core``, ``ops`` and each other.
"""
