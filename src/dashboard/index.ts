export { createDashboard } from './handler.js';
export type { DashboardHandler } from './handler.js';
export type { DashboardAccess, DashboardOptions } from './options.js';
export { describeSchedule } from './describe-schedule.js';
export { ASSET_BUDGET_BYTES, ASSET_BUDGET_GZIP_BYTES } from './assets.js';
export type { Upcoming, UpcomingFire } from './upcoming.js';
export type { Listing } from './listing.js';
