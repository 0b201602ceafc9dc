//! What valid attributes expand to: the descriptors the macros register, read back
//! from the `inventory` registry. (Compile-fail cases are in `ui.rs`; these are
//! ordinary tests so they share the workspace build.)

// Every way of declaring partitions expands to the `PartitionsSpec` it says.
mod partitions {
    use phlo::__private::{Cadence, IngestionDescriptor, PartitionsSpec, inventory};
    use phlo::prelude::*;

    #[derive(Schema)]
    struct Event {
        id: String,
    }

    #[ingestion(table = "default_daily", unique_key = "id", schema = Event)]
    async fn default_daily(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
        Ok(vec![])
    }

    #[ingestion(table = "still_daily", unique_key = "id", schema = Event, partitioned = true)]
    async fn still_daily(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
        Ok(vec![])
    }

    #[ingestion(table = "whole", unique_key = "id", schema = Event, partitioned = false, merge_strategy = "replace_partition")]
    async fn whole(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
        Ok(vec![])
    }

    #[ingestion(table = "monthly", unique_key = "id", schema = Event, partitions = monthly)]
    async fn monthly(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
        Ok(vec![])
    }

    #[ingestion(
        table = "hourly",
        unique_key = "id",
        schema = Event,
        partitions = hourly(start = "2025-01-01T00", end = "2026-01-01", tz = "Europe/London", end_offset = -1)
    )]
    async fn hourly(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
        Ok(vec![])
    }

    #[ingestion(table = "new_york", unique_key = "id", schema = Event, partitions = daily(start = "2025-01-01", tz = "America/New_York"))]
    fn new_york(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
        Ok(vec![])
    }

    #[ingestion(table = "regions", unique_key = "id", schema = Event, static_keys = ["eu", "us-east-1"])]
    async fn regions(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
        Ok(vec![])
    }

    fn partitions(name: &str) -> Option<PartitionsSpec> {
        inventory::iter::<IngestionDescriptor>
            .into_iter()
            .find(|descriptor| descriptor.name == name)
            .map(|descriptor| descriptor.spec.partitions)
    }

    #[test]
    fn every_way_of_declaring_partitions_expands_to_its_spec() {
        assert_eq!(partitions("default_daily"), Some(PartitionsSpec::DAILY));
        assert_eq!(partitions("still_daily"), Some(PartitionsSpec::DAILY));
        assert_eq!(partitions("whole"), Some(PartitionsSpec::None));
        let time = |cadence, start, end, timezone, end_offset| {
            Some(PartitionsSpec::Time {
                cadence,
                start,
                end,
                timezone,
                end_offset,
            })
        };
        assert_eq!(
            partitions("monthly"),
            time(Cadence::Monthly, None, None, "UTC", 0)
        );
        assert_eq!(
            partitions("hourly"),
            time(
                Cadence::Hourly,
                Some("2025-01-01T00"),
                Some("2026-01-01"),
                "Europe/London",
                -1
            )
        );
        assert_eq!(
            partitions("new_york"),
            time(
                Cadence::Daily,
                Some("2025-01-01"),
                None,
                "America/New_York",
                0
            )
        );
        assert_eq!(
            partitions("regions"),
            Some(PartitionsSpec::Static {
                keys: &["eu", "us-east-1"]
            })
        );
    }
}

// A transform's attribute and parameters expand to the descriptor they say.
mod transform {
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

    #[test]
    fn a_transform_expands_to_the_descriptor_it_says() {
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
}
