# compare.gp — the charts of `make compare` (labs/tools/compare runs it; not meant by hand).
#
# Six panels: messages/s against connections (64 B and 4096 B), p99 latency and
# server CPU per message against connections (64 B), messages/s against idle
# descriptors (select, poll, epolls), and what the telemetry costs.  Points are
# medians, bars the min-max of the runs.
#
# Variables, set with gnuplot -e:
#   dir      directory of data files: msgs64.MODEL.dat, msgs4096.MODEL.dat, p99.MODEL.dat,
#            cpu.MODEL.dat, idle.MODEL.dat (x median min max), overhead.dat (model msgs cpu)
#   m64 m4096 mp99 mcpu midle   space-separated models that have data for each panel,
#   m64_lt ...                  and their line types (a model's place in the full list)
#   ovh      1 when overhead.dat has rows
#   term     png | pngcairo | svg        out   the file to write
#   heading  the title line

if (term eq 'svg') {
	set terminal svg size 1200,1380 dynamic font 'sans,11'
} else {
	if (term eq 'pngcairo') {
		set terminal pngcairo size 1200,1380 font 'sans,10'
	} else {
		set terminal png size 1200,1380
	}
}
set output out
set datafile missing '-'
set multiplot layout 3,2 title heading font ',12'
set grid
set key top left font ',8' samplen 2 spacing 0.9
set style data yerrorlines
set pointsize 0.8
# Nine models, nine line types that stay apart in colour, dash and point.
set linetype 1 lc rgb '#7f7f7f' lw 1.5 pt 1 dt 1
set linetype 2 lc rgb '#d62728' lw 1.5 pt 2 dt 2
set linetype 3 lc rgb '#ff7f0e' lw 1.5 pt 4 dt 1
set linetype 4 lc rgb '#bcbd22' lw 1.5 pt 6 dt 2
set linetype 5 lc rgb '#1f77b4' lw 2.0 pt 7 dt 1
set linetype 6 lc rgb '#17becf' lw 1.5 pt 5 dt 1
set linetype 7 lc rgb '#9467bd' lw 1.5 pt 8 dt 3
set linetype 8 lc rgb '#8c564b' lw 1.5 pt 10 dt 3
set linetype 9 lc rgb '#2ca02c' lw 1.5 pt 12 dt 1
set linetype cycle 9

# Empty panel: say why instead of failing the whole chart (asked: this run measured it).
nodata(t, asked) = sprintf("set title '%s'; unset logscale; set label 1 '%s' at graph 0.5,0.5 center; plot [0:1][0:1] NaN notitle; unset label 1", t, asked ? 'no verified runs' : 'not measured in this run')

# --- throughput against connections -----------------------------------------
set logscale x
set xrange [0.7:1500]
set xtics ('1' 1, '10' 10, '100' 100, '1000' 1000)
set xlabel 'connections (1 message in flight each)'
set ylabel 'messages / s'
set format y '%.0s%c'
set yrange [0:*]

t = 'throughput, 64 B messages'
if (strlen(m64) > 0) {
	set title t
	plot for [i=1:words(m64)] dir.'/msgs64.'.word(m64,i).'.dat' using 1:2:3:4 lt int(word(m64_lt,i)) title word(m64,i)
} else { eval nodata(t, a64) }

t = 'throughput, 4096 B messages'
set logscale x; set xrange [0.7:1500]; set yrange [0:*]
if (strlen(m4096) > 0) {
	set title t
	plot for [i=1:words(m4096)] dir.'/msgs4096.'.word(m4096,i).'.dat' using 1:2:3:4 lt int(word(m4096_lt,i)) title word(m4096,i)
} else { eval nodata(t, a4096) }

# --- latency and CPU ---------------------------------------------------------
t = 'p99 latency, 64 B (log scale)'
set logscale xy; set xrange [0.7:1500]; set yrange [*:*]
set ylabel 'p99 latency (us)'
set format y '%g'
if (strlen(mp99) > 0) {
	set title t
	plot for [i=1:words(mp99)] dir.'/p99.'.word(mp99,i).'.dat' using 1:2:3:4 lt int(word(mp99_lt,i)) title word(mp99,i)
} else { eval nodata(t, a64) }

t = 'server CPU per message, 64 B'
unset logscale y
set logscale x; set xrange [0.7:1500]; set yrange [0:*]
set ylabel 'server CPU (us / message)'
if (strlen(mcpu) > 0) {
	set title t
	plot for [i=1:words(mcpu)] dir.'/cpu.'.word(mcpu,i).'.dat' using 1:2:3:4 lt int(word(mcpu_lt,i)) title word(mcpu,i)
} else { eval nodata(t, a64) }

# --- idle descriptors ----------------------------------------------------------
# x is the idle count, shifted by one so 0 fits on a log axis.
t = 'throughput of 4 active clients beside idle connections'
set logscale x; set xrange [0.7:15000]; set yrange [0:*]
set xtics ('0' 1, '100' 101, '1000' 1001, '9000' 9001)
set xlabel 'idle connections'
set ylabel 'messages / s'
set format y '%.0s%c'
if (strlen(midle) > 0) {
	set title t
	plot for [i=1:words(midle)] dir.'/idle.'.word(midle,i).'.dat' using ($1 + 1):2:3:4 lt int(word(midle_lt,i)) title word(midle,i)
} else { eval nodata(t, aidle) }

# --- telemetry cost -------------------------------------------------------------
t = 'telemetry cost: with stats / --no-stats (1.0 = free)'
unset logscale
set xtics autofreq
set xrange [-0.7:*]
set yrange [0:*]
set format y '%g'
set xlabel ''
set ylabel 'ratio'
set style fill solid 0.6 border -1
set boxwidth 0.38
if (ovh) {
	set title t
	plot dir.'/overhead.dat' using ($0 - 0.2):2:xtic(1) with boxes lc rgb '#1f77b4' dt 1 title 'messages/s', \
	     ''                  using ($0 + 0.2):3 with boxes lc rgb '#ff7f0e' dt 1 title 'CPU per message', \
	     1 with lines dt 2 lc rgb 'black' notitle
} else { eval nodata(t, atel) }

unset multiplot
