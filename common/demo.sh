#!/bin/sh
# demo.sh LAB [N] - a classroom demo: each node of LAB in its own tmux pane, plus a shell pane.
# The nodes' command lines come from LAB/demo.args (one node per line, program first).
# Without tmux, print the commands to paste into separate terminals.
cd "$(dirname "$0")/.." || exit 2
lab=${1:?usage: demo.sh LAB [N]}
n=${2:-}
args="$lab/demo.args"
[ -f "$args" ] || { echo "demo: $args is missing: $lab has no demo yet" >&2; exit 2; }
lines=$(grep -v '^#' "$args" | grep -v '^ *$')
[ -n "$n" ] && lines=$(echo "$lines" | head -n "$n")
if ! command -v tmux >/dev/null 2>&1; then
    echo "tmux is not installed (sudo apt-get install -y tmux). Run each line in its own terminal:"
    echo "$lines" | while read -r prog rest; do echo "    cd $lab && ./build/$prog $rest"; done
    exit 0
fi
session="kit-$lab"
tmux kill-session -t "$session" 2>/dev/null
tmux new-session -d -s "$session" -c "$PWD/$lab" -x 200 -y 50
first=1
echo "$lines" | while read -r prog rest; do
    if [ $first = 1 ]; then
        tmux send-keys -t "$session" "./build/$prog $rest" C-m
        first=0
    else
        tmux split-window -t "$session" -c "$PWD/$lab" "./build/$prog $rest; read x"
        tmux select-layout -t "$session" tiled >/dev/null
    fi
done
tmux split-window -t "$session" -c "$PWD/$lab"
tmux select-layout -t "$session" tiled >/dev/null
echo "demo: tmux session $session (tmux attach -t $session; Ctrl-b d to detach; tmux kill-session -t $session to end)"
[ -t 1 ] && exec tmux attach -t "$session"
exit 0
