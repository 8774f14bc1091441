"""Students, one folder each behind the policy interface (`rollouts.policy.Policy`): SigLIP-BC
(`siglip_bc/`), PIG-Nav and its late-fusion baseline (`pignav/`), the inverse dynamics model that
labels action-free videos (`idm/`) and a random floor (`random_policy/`). Each folder keeps its config,
model, processing and policy apart, and supplies a `recipe.py` to the one trainer (`training/`).
Frozen encoders live in `encoders/`; `images.py`, `layers.py` and `context.py` are what the students share."""
