-- Remove the Atlas Image inventory.
DROP TABLE wdb.atlas_image;
