# goalnav: `make demo` runs the main job, `make test` the tests. Both set up the environment first.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never

# Python 3.12 (Isaac Lab 3.0 needs it): $GOALNAV_PYTHON, else pyenv's newest 3.12, else python3.12 on PATH.
PYENV_ROOT ?= $(HOME)/.pyenv
PYTHON312 := $(or $(GOALNAV_PYTHON),$(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.12*/bin/python3.12))),$(shell command -v python3.12 2>/dev/null))
UV := $(or $(shell command -v uv 2>/dev/null),"$(PYTHON312)" -m uv)
PY := .venv/bin/python

.PHONY: setup demo scenes scene-ablations scene-oracles drive bench test lint format assets clean

setup: .venv/.synced

.venv/.synced: pyproject.toml uv.lock
	@test -n "$(PYTHON312)" || { echo "error: Python 3.12 not found. Install it (pyenv install 3.12) or set GOALNAV_PYTHON=/path/to/python3.12" >&2; exit 1; }
	@$(UV) --version >/dev/null 2>&1 || { echo "installing uv with $(PYTHON312) -m pip"; "$(PYTHON312)" -m pip install --user --quiet uv; }
	$(UV) sync --frozen --python "$(PYTHON312)"
	@touch $@

# The main job at the quick (CPU) scale: train what is missing, evaluate on the fixed test episodes,
# print the comparison table. Each stage writes files, so an interrupted demo resumes where it stopped.
# `make -j2 demo` runs the two students' stages side by side, one core each.
ENV ?= arena
# simulations in parallel for evaluation and collection (Ray workers), e.g. make demo WORKERS=2
WORKERS ?= 1
EVAL := --env $(ENV) --split test --num-envs 50 --workers $(WORKERS)

# ... and ends with the regression gate: each headline figure against its committed reference band
# (evaluation/references/<env>.json); a figure outside its band fails the command.
# (Each goal runs its stages in a sub-make once setup is done, so that `make -j2` never starts a stage
# before the environment exists.)
demo: setup
	@$(MAKE) --no-print-directory results/$(ENV)/comparison.md
	@cat results/$(ENV)/comparison.md
	$(if $(wildcard evaluation/references/$(ENV).json),$(PY) evaluation/gate.py results/$(ENV),@echo "no reference for $(ENV): not gated")

runs/$(ENV)/expert/expert.zip:
	$(PY) tools/train.py expert --env $(ENV) --profile quick

results/$(ENV)/expert/summary.json: runs/$(ENV)/expert/expert.zip
	$(PY) evaluation/run.py --policy expert $(EVAL) --video

results/$(ENV)/random/summary.json:
	$(PY) evaluation/run.py --policy random $(EVAL)

# The expert's demonstrations both students train on: one target, so `make -j2 demo` collects them once.
data/$(ENV)/demos/collection.json: runs/$(ENV)/expert/expert.zip
	$(PY) tools/collect.py --env $(ENV) --episodes 200 --workers $(WORKERS)

# SigLIP-BC: embeds the demonstrations once, trains with closed-loop validation.
# Without SigLIP weights it uses the offline encoder, and its rows say so.
runs/$(ENV)/siglip_bc/train_summary.json: data/$(ENV)/demos/collection.json
	$(PY) tools/train.py siglip_bc --env $(ENV) --profile quick --workers $(WORKERS)

results/$(ENV)/siglip_bc/summary.json: runs/$(ENV)/siglip_bc/train_summary.json results/$(ENV)/expert/summary.json
	$(PY) evaluation/run.py --policy siglip_bc $(EVAL)

# PIG-Nav: MAE on the demonstration frames, then waypoint training with closed-loop validation.
runs/$(ENV)/pignav/train_summary.json: data/$(ENV)/demos/collection.json
	$(PY) tools/train.py pignav --env $(ENV) --profile quick --workers $(WORKERS)

results/$(ENV)/pignav/summary.json: runs/$(ENV)/pignav/train_summary.json results/$(ENV)/expert/summary.json
	$(PY) evaluation/run.py --policy pignav $(EVAL)

results/$(ENV)/comparison.md: results/$(ENV)/expert/summary.json results/$(ENV)/siglip_bc/summary.json results/$(ENV)/pignav/summary.json results/$(ENV)/random/summary.json
	$(PY) evaluation/compare.py results/$(ENV) --out $@ --html > /dev/null

# The scene study (PIG-Nav): early against late fusion on a held-out scene style, pretrained on the other
# two. Collects what is missing, pretrains, fine-tunes (all data; early fusion also on 1/8), evaluates on the
# graded test set (near/mid/far) with and without the topological graph, prints the table. Early fusion is
# the stacked variant (--stacked): with patches as separate tokens the waypoint head stays at the mean on our
# CPU scale (README, "PIG-Nav on the image-goal scenes"). `make -j2 scenes` runs two stages at a time.
SCENE ?= halls
OTHERS = $(filter-out $(SCENE),rooms maze halls)
STUDY := results/$(SCENE)/study
GRADED := --env $(SCENE) --split test_graded --num-envs 30
VAL := --val-episodes 10
STEPS := --finetune-steps 3000 $(VAL)
PRETRAIN_STEPS := --pretrain-steps 3000
PRE := --env $(SCENE) --pretrain-envs $(OTHERS) $(PRETRAIN_STEPS) $(STEPS)
DEMOS = $(foreach e,$(SCENE) $(OTHERS),data/$(e)/demos/collection.json)

scenes: setup
	@$(MAKE) --no-print-directory $(STUDY)/comparison.md
	@cat $(STUDY)/comparison.md

# one collection per style, so that runs in parallel never write the same folder
data/%/demos/collection.json:
	$(PY) tools/collect.py --env $* --episodes 160

runs/$(SCENE)/pignav/train_summary.json: $(DEMOS)
	$(PY) tools/train.py pignav --stacked $(PRE) --out runs/$(SCENE)/pignav
runs/$(SCENE)/pignav_eighth/train_summary.json: runs/$(SCENE)/pignav/train_summary.json
	$(PY) tools/train.py pignav --stacked --env $(SCENE) --pretrained runs/$(SCENE)/pignav/pretrain.pt --fraction 0.125 $(STEPS) --out runs/$(SCENE)/pignav_eighth
runs/$(SCENE)/late_fusion/train_summary.json: $(DEMOS)
	$(PY) tools/train.py late_fusion $(PRE) --out runs/$(SCENE)/late_fusion

$(STUDY)/planner/summary.json:
	$(PY) evaluation/run.py --policy planner $(GRADED) --out $(@D)
$(STUDY)/%_zero_shot/summary.json: runs/$(SCENE)/%/train_summary.json
	$(PY) evaluation/run.py --policy $* $(GRADED) --checkpoint runs/$(SCENE)/$*/pretrain.pt --out $(@D)
$(STUDY)/%_finetuned/summary.json: runs/$(SCENE)/%/train_summary.json
	$(PY) evaluation/run.py --policy $* $(GRADED) --checkpoint runs/$(SCENE)/$*/finetune.pt --out $(@D)
$(STUDY)/%_graph/summary.json: runs/$(SCENE)/%/train_summary.json
	$(PY) evaluation/run.py --policy $* $(GRADED) --checkpoint runs/$(SCENE)/$*/finetune.pt --graph --out $(@D)
$(STUDY)/pignav_eighth/summary.json: runs/$(SCENE)/pignav_eighth/train_summary.json
	$(PY) evaluation/run.py --policy pignav $(GRADED) --checkpoint runs/$(SCENE)/pignav_eighth/finetune.pt --out $(@D)

STUDY_RUNS := planner pignav_zero_shot pignav_finetuned pignav_graph pignav_eighth late_fusion_zero_shot late_fusion_finetuned late_fusion_graph
$(STUDY)/comparison.md: $(foreach r,$(STUDY_RUNS),$(STUDY)/$(r)/summary.json)
	$(PY) evaluation/compare.py $(STUDY) --out $@ > /dev/null

# The study's ablations, zero-shot on the held-out style (each a pretraining like the scene study's PIG-Nav,
# one thing changed): auxiliary heads off; no MAE-sim (scratch); and one style's demonstrations with and
# without the other style's frames labelled by an IDM trained on the first (action-free video stand-in).
ABLATIONS := results/$(SCENE)/ablations
FIRST = $(firstword $(OTHERS))
SECOND = $(lastword $(OTHERS))
ZERO_SHOT := pignav --stacked --env $(SCENE) --fraction 0 $(PRETRAIN_STEPS) $(VAL)

scene-ablations: setup
	@$(MAKE) --no-print-directory $(ABLATIONS)/comparison.md
	@cat $(ABLATIONS)/comparison.md

runs/$(SCENE)/ablations/no_aux/train_summary.json: $(DEMOS)
	$(PY) tools/train.py $(ZERO_SHOT) --pretrain-envs $(OTHERS) --no-goal-head --no-distance-head --no-path-head --out $(@D)
runs/$(SCENE)/ablations/scratch/train_summary.json: $(DEMOS)
	$(PY) tools/train.py $(ZERO_SHOT) --pretrain-envs $(OTHERS) --init scratch --out $(@D)
runs/$(SCENE)/ablations/$(FIRST)_only/train_summary.json: $(DEMOS)
	$(PY) tools/train.py $(ZERO_SHOT) --pretrain-envs $(FIRST) --out $(@D)
runs/idm/$(FIRST)/train_summary.json: data/$(FIRST)/demos/collection.json
	$(PY) tools/train.py idm --demos data/$(FIRST)/demos --out $(@D)
# labelling appends, so an interrupted one starts over
data/pseudo/$(SECOND)/labelled: runs/idm/$(FIRST)/train_summary.json data/$(SECOND)/demos/collection.json
	rm -rf $(@D) && $(PY) tools/label.py data/$(SECOND)/demos --idm runs/idm/$(FIRST) --out $(@D) --env $(SECOND) && touch $@
runs/$(SCENE)/ablations/$(FIRST)_pseudo_$(SECOND)/train_summary.json: data/pseudo/$(SECOND)/labelled
	$(PY) tools/train.py $(ZERO_SHOT) --pretrain-envs $(FIRST) --pseudo data/pseudo/$(SECOND) --out $(@D)

$(ABLATIONS)/%/summary.json: runs/$(SCENE)/ablations/%/train_summary.json
	$(PY) evaluation/run.py --policy pignav $(GRADED) --checkpoint runs/$(SCENE)/ablations/$*/pretrain.pt --out $(@D)

ABLATION_RUNS := no_aux scratch $(FIRST)_only $(FIRST)_pseudo_$(SECOND)
$(ABLATIONS)/comparison.md: $(STUDY)/pignav_zero_shot/summary.json $(foreach r,$(ABLATION_RUNS),$(ABLATIONS)/$(r)/summary.json)
	$(PY) evaluation/compare.py $(STUDY)/pignav_zero_shot $(foreach r,$(ABLATION_RUNS),$(ABLATIONS)/$(r)) --out $@ > /dev/null

# The oracle ceilings of the scene study's early fusion (evaluation/oracles.py: privileged diagnostics, each one
# learned part replaced by the simulator's truth) beside its learned rows: the scan, the route and the random
# graph, and a fine-tuning on demonstrations sampled like the test sets (arrival heading, starts from 0.5 m);
# on the held-out style with the fine-tuned model, and in-style on $(FIRST) with the pretraining, which saw $(FIRST).
ORACLES := results/$(SCENE)/oracles
IN_STYLE := results/$(FIRST)/in_style
ROW_FLAGS_learned :=
ROW_FLAGS_graph := --graph
ROW_FLAGS_graph_random := --graph --traversal random
ROW_FLAGS_oracle_face := --oracle face
ROW_FLAGS_oracle_pose := --graph --oracle pose
ROW_FLAGS_oracle_planner := --graph --oracle planner
ROW_FLAGS_scan := --scan
ORACLE_RUNS := finetuned_arrival_data scan graph graph_random oracle_face oracle_pose oracle_planner
IN_STYLE_RUNS := learned scan graph oracle_face oracle_pose oracle_planner

scene-oracles: setup
	@$(MAKE) --no-print-directory $(ORACLES)/comparison.md $(IN_STYLE)/comparison.md
	@cat $(ORACLES)/comparison.md $(IN_STYLE)/comparison.md

data/$(SCENE)/demos_arrival/collection.json:
	$(PY) tools/collect.py --env $(SCENE) --episodes 160 --goal-heading arrival --min-geodesic 0.5 --out $(@D)
runs/$(SCENE)/pignav_arrival/train_summary.json: runs/$(SCENE)/pignav/train_summary.json data/$(SCENE)/demos_arrival/collection.json
	$(PY) tools/train.py pignav --stacked --env $(SCENE) --pretrained runs/$(SCENE)/pignav/pretrain.pt --demos data/$(SCENE)/demos_arrival $(STEPS) --out $(@D)
$(ORACLES)/finetuned_arrival_data/summary.json: runs/$(SCENE)/pignav_arrival/train_summary.json
	$(PY) evaluation/run.py --policy pignav $(GRADED) --checkpoint runs/$(SCENE)/pignav_arrival/finetune.pt --out $(@D)
$(ORACLES)/%/summary.json: runs/$(SCENE)/pignav/train_summary.json
	$(PY) evaluation/run.py --policy pignav $(GRADED) --checkpoint runs/$(SCENE)/pignav/finetune.pt $(ROW_FLAGS_$*) --out $(@D)
$(IN_STYLE)/%/summary.json: runs/$(SCENE)/pignav/train_summary.json
	$(PY) evaluation/run.py --policy pignav --env $(FIRST) --split test_graded --num-envs 30 --checkpoint runs/$(SCENE)/pignav/pretrain.pt $(ROW_FLAGS_$*) --out $(@D)

$(ORACLES)/comparison.md: $(STUDY)/pignav_zero_shot/summary.json $(STUDY)/pignav_finetuned/summary.json $(foreach r,$(ORACLE_RUNS),$(ORACLES)/$(r)/summary.json)
	$(PY) evaluation/compare.py $(STUDY)/pignav_zero_shot $(STUDY)/pignav_finetuned $(foreach r,$(ORACLE_RUNS),$(ORACLES)/$(r)) --out $@ > /dev/null
$(IN_STYLE)/comparison.md: $(foreach r,$(IN_STYLE_RUNS),$(IN_STYLE)/$(r)/summary.json)
	$(PY) evaluation/compare.py $(foreach r,$(IN_STYLE_RUNS),$(IN_STYLE)/$(r)) --out $@ > /dev/null

# Regenerate the results tables in README.md and docs/*.md from docs/results/ (evaluation/docs.py --check: stale?).
.PHONY: docs
docs: setup
	$(PY) evaluation/docs.py

# Drive the robot with a scripted policy and save what its camera sees.
drive: setup
	$(PY) tools/drive.py --env $(ENV) --policy random --num-envs 4 --steps 300 --video results/drive/$(ENV)_random.gif

# Throughput: simulation (each configuration in its own process) and policies; --profile quick for a short run.
bench: setup
	$(PY) evaluation/bench.py --env $(ENV) --profile paper --out results/bench
	$(PY) evaluation/bench_policies.py --profile paper --out results/bench

test: setup
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Rewrite the USD assets from assets/make_assets.py.
assets: setup
	$(PY) assets/make_assets.py

# Build the kit-less image here without an image registry and run it through compose on the CPU
# (root, Debian; installs Docker and debootstrap if missing). See docker/README.md.
.PHONY: docker-smoke
docker-smoke:
	bash docker/smoke.sh

clean:
	rm -rf .venv .pytest_cache .ruff_cache  # runs/ and results/ are kept: delete them yourself
