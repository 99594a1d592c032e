/**
 * Every capability's migrations, in the order they are applied. Add one import line per capability.
 * The store's own tables come first. The list lives with the composition root because only the root may know
 * every capability; store/ applies whatever list it is given.
 */
import type { Migration } from '../store/db.ts';
import { migrations as store } from '../store/migrations.ts';
import { migrations as identity } from '../identity/migrations.ts';
import { migrations as meter } from '../meter/migrations.ts';
import { migrations as policy } from '../policy/migrations.ts';
import { migrations as directives } from '../directives/migrations.ts';
import { migrations as audit } from '../audit/inbox.ts';
import { migrations as abuse } from '../abuse/fleet.ts';
import { migrations as incidents } from '../incidents/migrations.ts';
import { migrations as screening } from '../screening/migrations.ts';
import { migrations as consoleOps } from '../console/migrations.ts';
import { migrations as notify } from '../notify/migrations.ts';
import { migrations as programmes } from '../programmes/migrations.ts';

export const ALL_MIGRATIONS: Migration[] = [...store, ...identity, ...meter, ...policy, ...directives, ...audit, ...abuse, ...incidents, ...screening, ...consoleOps, ...notify, ...programmes];
