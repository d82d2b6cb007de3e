# tests/integration/view_tmux.sh — the viewer's tests drive it in a tmux pane (source it
# after tests/lib.sh; the tests are t-view-*.sh).
#
#   . "$IOLAB_ROOT/tests/integration/view_tmux.sh"   # sets TM, IOLAB_SHM_PREFIX, LANG,
#                                                    # and an EXIT trap that cleans up
#   "${TM[@]}" new-session -d -s v -x 80 -y 24 "bin/iolab-view"
#   wait_for "^MODEL" "the viewer did not start"; keys Enter; screen
#
# Skips (77) when tmux is missing.
command -v tmux >/dev/null || t_skip "tmux is not installed (apt-get install tmux, or make deps)"
export IOLAB_SHM_PREFIX=iolabtest-v$$       # our servers only, whatever else runs
export LANG=C.UTF-8                         # the pane gets it too (braille, ellipsis)
TM=(tmux -L "iolabtest-v$$" -f /dev/null)
VIEW_JUNK=()                                # files a test wants removed at the end

view_cleanup() {
	"${TM[@]}" kill-server 2>/dev/null
	rm -f "${VIEW_JUNK[@]}"
	t_cleanup
	rm -f /dev/shm/"$IOLAB_SHM_PREFIX".*      # left only if a server had to be SIGKILLed
}
trap view_cleanup EXIT

screen() { "${TM[@]}" capture-pane -p -t v; }
# wait_for REGEX [WHAT]: poll the pane for up to 10 s; fail saying WHAT.
wait_for() {
	for _ in $(seq 1 100); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	screen >&2
	t_fail "${2:-the screen never showed /$1/}"
}
keys() { "${TM[@]}" send-keys -t v "$@"; }
# Esc alone: a key right behind it would read as Alt+key (curses waits 25 ms for more).
esc() { keys Escape; sleep 0.3; }
