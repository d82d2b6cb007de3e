/*
 * draw.h — paint the prepared model.  Drawing reads the sampler and the ui
 * (its geometry included) and writes neither.
 */
#ifndef IOLAB_VIEW_DRAW_H
#define IOLAB_VIEW_DRAW_H

#include "viewer/sample.h"
#include "viewer/ui.h"

void draw_screen(const struct ui *u, const struct sampler *s);

/* One server's views (draw_server.c), called by draw_screen(). */
void draw_conns(const struct ui *u, const struct sampler *s);
void draw_counters(const struct ui *u, const struct sampler *s);
void draw_events(const struct ui *u, const struct sampler *s);

#endif
