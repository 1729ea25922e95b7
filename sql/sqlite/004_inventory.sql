-- 004: the instance id an inventory push (POST /api/inventory) matched to
-- the computer; later pushes match it by this id first.
ALTER TABLE computers ADD COLUMN inventory_id TEXT NOT NULL DEFAULT '';
