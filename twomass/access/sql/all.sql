-- Every row of the relation.
true
