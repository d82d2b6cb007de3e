/*
 * draw.h — paint the prepared model.  Drawing reads the sampler and the ui
 * (its geometry included) and writes neither.
 */
#ifndef IOLAB_VIEW_DRAW_H
#define IOLAB_VIEW_DRAW_H

#include "viewer/sample.h"
#include "viewer/ui.h"

void draw_screen(const struct ui *u, const struct sampler *s);

#endif
