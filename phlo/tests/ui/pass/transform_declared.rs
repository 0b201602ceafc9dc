//! A transform's attribute and parameters expand to the descriptor they say.
use phlo::__private::{Materialized, PartitionsSpec, TransformDescriptor, inventory};
use phlo::prelude::*;

#[derive(Schema)]
struct Total {
    well_code: String,
    total: f64,
}

#[transform(table = "gold.totals", schema = Total, unique_key = "well_code", tags = ["mart"])]
async fn totals(_ctx: &PartitionContext, events: DataFrame) -> phlo::Result<DataFrame> {
    Ok(events)
}

#[transform(table = "silver.daily", materialized = "replace_partition", partitions = daily)]
fn daily(
    _ctx: &PartitionContext,
    events: DataFrame,
    #[phlo(mapping = "offset(-1)")] totals: DataFrame,
) -> phlo::Result<Vec<RecordBatch>> {
    drop((events, totals));
    Ok(vec![])
}

fn main() {
    let get = |name: &str| {
        inventory::iter::<TransformDescriptor>
            .into_iter()
            .find(|d| d.name == name)
            .unwrap()
    };
    let t = get("totals");
    assert_eq!(t.spec.table, "gold.totals");
    assert_eq!(t.spec.unique_key, ["well_code"]);
    assert!(matches!(t.spec.partitions, PartitionsSpec::None));
    assert_eq!(t.materialized, None);
    assert_eq!(t.schema.map(|s| s.name), Some("Total"));
    assert_eq!(t.tags, ["mart"]);
    assert_eq!(t.inputs.len(), 1);
    assert_eq!((t.inputs[0].asset, t.inputs[0].mapping), ("events", None));
    let d = get("daily");
    assert_eq!(d.materialized, Some(Materialized::ReplacePartition));
    assert!(matches!(d.spec.partitions, PartitionsSpec::Time { .. }));
    assert!(d.schema.is_none());
    let inputs: Vec<_> = d.inputs.iter().map(|i| (i.asset, i.mapping)).collect();
    assert_eq!(inputs, [("events", None), ("totals", Some("offset(-1)"))]);
}
