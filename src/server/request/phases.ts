/**
 * The shapes the phases pass each other: the parts built once per RequestPath, and one request once its model is
 * decided. Apart from context.ts so that context.ts (imported by every phase) imports no phase.
 */
import type { ServerResponse } from 'node:http';
import type { CanonicalRequest } from '../../core/canonical.ts';
import type { CatalogueModel } from '../catalogue.ts';
import type { CancelSignal } from '../../providers/types.ts';
import type { MetricChildren, RequestPathDeps, StreamModerator } from './context.ts';
import type { Decisions } from './decide.ts';
import type { Outcomes } from './outcome.ts';
import type { RequestState } from './state.ts';

/** The phases' shared parts, built once per RequestPath. */
export interface PathParts {
  readonly deps: RequestPathDeps;
  readonly children: MetricChildren;
  readonly outcomes: Outcomes;
  readonly decisions: Decisions;
}

/** One request once its model is decided: what every attempt of its plan needs. */
export interface Attempting {
  readonly state: RequestState;
  readonly req: CanonicalRequest;
  /** The model decided for the request (after routes); its plan lists the attempts. */
  readonly model: CatalogueModel;
  readonly res: ServerResponse;
  /** Aborted by a client disconnect or the routing deadline. */
  readonly signal: CancelSignal;
  readonly moderator: StreamModerator | null;
}
