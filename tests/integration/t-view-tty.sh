#!/usr/bin/env bash
# Description: iolab-view on a real terminal (a tmux pane), beside bin/echo-epoll-lt
# under load: the overview shows the server's row and the STARVE column; a garbage
# segment gets a note and no crash; p pauses; Enter opens the connections with
# their masks decoded by name; Tab moves to the counters, then the event log (which
# says what it holds, and that a filter matches nothing); a resize below 80x24
# says so and a resize back redraws; Esc returns; q, Ctrl-C and a crash signal
# all leave the terminal in its normal mode (icanon echo); NO_COLOR means no colour.
# Skips (77) only when tmux is not installed.
. "$IOLAB_ROOT/tests/lib.sh"

. "$IOLAB_ROOT/tests/integration/view_tmux.sh"
view=$IOLAB_BIN/iolab-view load=$IOLAB_BIN/tests/view_load
[ -x "$view" ] && [ -x "$load" ] || t_fail "build bin/iolab-view and bin/tests/view_load first (make)"
garbage=/dev/shm/$IOLAB_SHM_PREFIX.garbage.$$
VIEW_JUNK+=("$garbage")

t_start_server echo-epoll-lt
srv=$T_PID port=$T_PORT
t_spawn "$load" -p "$port" -c 3 --rate 300 -s 100 --time 120 >/dev/null 2>"$T_TMP/load.err"

# The pane runs the viewer, then reports how it ended and the terminal's modes,
# labelled (the old lines stay on the pane's normal screen when it is respawned).
# Without job control the shell shares the viewer's process group, so Ctrl-C
# reaches it too: a trap (reset to the default in the viewer by exec) keeps it.
cat >"$T_TMP/pane.sh" <<EOF
trap : INT
label=\$1
"$view" --interval 200
echo "\$label: viewer-exit=\$?"
stty -a | tr ' ;' '\n\n' | grep -E '^-?(icanon|echo)\$' | tr '\n' ' '; echo "<\$label modes"
sleep 600
EOF

# The viewer process: the pane's shell's child.
viewer_pid() { ps -o pid= --ppid "$("${TM[@]}" display -p -t v '#{pane_pid}')" | grep -v "^ *$" | head -1 | tr -d ' '; }

"${TM[@]}" new-session -d -s v -x 100 -y 30 "sh $T_TMP/pane.sh first" || t_fail "tmux cannot start a session"
"${TM[@]}" set-option -t v remain-on-exit on >/dev/null

# --- overview: the server row and the starvation column ---------------------
wait_for "^epoll-lt +$srv +$port +[0-9]+ " "no overview row for epoll-lt (pid $srv) on port $port"
wait_for "STARVE" "no STARVE column in the overview header"
screen | grep -q "^MODEL" || t_fail "no column header"
wait_for "^epoll-lt +$srv +$port +3 +[0-9.]+k?" "the row does not show 3 connections with a message rate"

# --- a garbage segment: a note, no crash -------------------------------------
head -c 20000 /dev/urandom >"$garbage"
wait_for "ignored .*garbage.*bad magic" "no note about the garbage segment"
screen | grep -q "^epoll-lt" || t_fail "the server row went away after the garbage segment"

# --- p pauses, p resumes ---------------------------------------------------------
keys p
wait_for "PAUSED" "p did not pause"
keys p
for _ in $(seq 1 50); do screen | grep -q PAUSED || break; sleep 0.1; done
screen | grep -q PAUSED && t_fail "p did not resume"

# --- Enter: the connections, masks decoded ----------------------------------------
keys Enter
wait_for "^ *FD.* INTEREST +LAST READY" "Enter did not open the connections view"
wait_for "interest 0x[0-9a-f]+ EPOLLIN" "no interest mask decoded by name (0x.. EPOLLIN...)"
wait_for "last ready 0x[0-9a-f]+ EPOLL" "no ready mask decoded by name"
wait_for "^ +[0-9]+ :[0-9]+ +(reading|writing)" "no connection rows with a state by name"

# --- Tab: the event log ------------------------------------------------------------
keys Tab
wait_for "^  COUNTER +TOTAL +PER SEC +MEANING" "Tab did not switch to the server's counters"
wait_for "^  frames_in +[1-9]" "the Counters view does not show frames_in by its telemetry name"
keys Tab
wait_for "TIME\(s\) +FD +KIND" "Tab did not switch to the event log"
wait_for "^here [0-9.]+k? of [0-9.]+k? read; gone: [0-9.]+k? before, [0-9.]+k? overwritten unread, [0-9.]+k? pushed out" \
	"the event log does not say what it holds and what it does not"
keys / z z z Enter
wait_for "No event matches 'zzz'" "a filter that matches nothing does not say so"
keys / C-u Enter
wait_for " ready +0x1 EPOLLIN" "no readiness events in the log"

# --- resize: too small, then back ---------------------------------------------------
"${TM[@]}" resize-window -t v -x 70 -y 20
wait_for "too small: 70x20" "no 'too small' message at 70x20"
"${TM[@]}" resize-window -t v -x 120 -y 32
wait_for "TIME\(s\) +FD +KIND" "no redraw after resizing back"
[ "$(screen | wc -l)" -ge 30 ] || t_fail "the screen did not grow"

# --- Esc back, q quits, terminal restored ---------------------------------------------
keys Escape
wait_for "^MODEL" "Esc did not return to the overview"
keys q
wait_for "^first: viewer-exit=0" "q did not end the viewer with status 0"
wait_for "^icanon echo <first modes" "the terminal is not back in canonical mode with echo after q"

# --- Ctrl-C ---------------------------------------------------------------------
"${TM[@]}" respawn-pane -k -t v "sh $T_TMP/pane.sh ctrl-c"
wait_for "^epoll-lt" "the viewer did not start again"
keys C-c
wait_for "^ctrl-c: viewer-exit=0" "Ctrl-C did not end the viewer cleanly"
wait_for "^icanon echo <ctrl-c modes" "the terminal is not restored after Ctrl-C"

# --- a crash signal -----------------------------------------------------------------
"${TM[@]}" respawn-pane -k -t v "sh $T_TMP/pane.sh segv"
wait_for "^epoll-lt" "the viewer did not start again"
vp=$(viewer_pid)
[ -n "$vp" ] || t_fail "cannot find the viewer's pid"
kill -SEGV "$vp"
wait_for "^segv: viewer-exit=[1-9]" "SIGSEGV did not end the viewer"
wait_for "^icanon echo <segv modes" "the terminal is not restored after a crash signal"

# --- colours, and NO_COLOR ------------------------------------------------------------
colours='\[([0-9]+;)*(3[0-7]|4[0-7]|38;5;[0-9]+|48;5;[0-9]+)(;[0-9]+)*m'
"${TM[@]}" respawn-pane -k -t v "sh $T_TMP/pane.sh colour"
wait_for "^epoll-lt" "the viewer did not start again"
"${TM[@]}" capture-pane -e -p -t v | grep -Eq "$colours" || t_fail "no colours without NO_COLOR"
"${TM[@]}" respawn-pane -k -t v "NO_COLOR=1 sh $T_TMP/pane.sh no-colour"
wait_for "^epoll-lt" "the viewer did not start with NO_COLOR"
"${TM[@]}" capture-pane -e -p -t v | grep -Eq "$colours" && t_fail "colours despite NO_COLOR=1"
keys q
wait_for "^no-colour: viewer-exit=0"
kill -0 "$srv" 2>/dev/null || t_fail "the server died while being watched"
t_pass
