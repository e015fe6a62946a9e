/**
 * The organization every anonymous session belongs to until its visitor
 * signs up. Anonymous rows thus carry a real tenant like every other row;
 * claiming a session moves its rows to the user's personal organization.
 * Identity migration 2 creates it with this id, written out in the migration
 * itself (migrations never import live code).
 */
export const PUBLIC_ORGANIZATION_ID = "00000000-0000-7000-8000-000000000000";
