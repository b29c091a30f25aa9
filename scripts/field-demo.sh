#!/usr/bin/env bash
# Runs the field command (offline, no server) on the shipped demo data: a fresh device in ./anjian-demo, the demo
# enterprise register, and an enforcement inspection of a chemical plant by two inspectors.
# Every step is an ordinary `anjian` command; copy any of them to go on by hand.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
home=${ANJIAN_DEMO_HOME:-$PWD/anjian-demo}

cargo build --quiet --release -p anjian-cli --manifest-path "$repo/Cargo.toml"
anjian() { "${CARGO_TARGET_DIR:-$repo/target}/release/anjian" --home "$home" "$@"; }
step() { printf '\n\033[1m$ anjian %s\033[0m\n' "$*"; anjian "$@"; }

if [ -e "$home" ]; then
  echo "Demo device folder $home exists; remove it to start over. Using it as it is."
fi

step init --name 张伟 --cert 37030001 --cert-valid-until 2028-12-31 --agency "$repo/templates/agency.example.toml"
step enterprise import "$repo/templates/demo/enterprises.csv"
step template list
id=$(anjian inspect start --enterprise 913703050534640908 --template hazchem-enforcement \
  --with 李娜:37030002:2028-06-30 --place "罐区及二号车间")
echo "started inspection $id"
step inspect answer "$id" HC-001 pass --note "主要负责人、安全管理人员考核合格证在有效期内"
step inspect answer "$id" HC-004 fail --note "2号反应釜温度联锁已摘除" --deadline "$(date -d '+15 days' +%F)"
step inspect answer "$id" HC-047 30 --deadline "$(date -d '+7 days' +%F)"
step inspect show "$id"
step inspect list
cat <<NEXT

Go on by hand, for example:
  $repo/target/release/anjian --home $home template show hazchem-enforcement
  $repo/target/release/anjian --home $home inspect answer $id HC-002 pass
  $repo/target/release/anjian --home $home inspect submit $id
NEXT
