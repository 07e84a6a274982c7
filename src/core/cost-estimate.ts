import { PRICE_TABLE } from './cost';

/** One line of a monthly cost estimate. */
export interface CostLineItem {
  /** What is charged, e.g. `EC2 t3.small`. */
  readonly item: string;
  /** Estimated charge in USD per month. */
  readonly monthlyUsd: number;
  /** The assumption behind the number. */
  readonly assumption: string;
}

/** A monthly cost estimate from the price table of docs/cost.md: list prices in one region, for planning. */
export class CostEstimate {
  /** Builds an estimate from line items. */
  public static of(items: CostLineItem[]): CostEstimate {
    return new CostEstimate(items.map((i) => ({ ...i, monthlyUsd: round(i.monthlyUsd) })));
  }

  /** The line items, largest first. */
  public readonly items: CostLineItem[];
  /** The sum of the line items in USD per month. */
  public readonly totalMonthlyUsd: number;
  /** The region whose list prices were used. */
  public readonly priceRegion: string = PRICE_TABLE.region;
  /** When the prices were recorded (year-month). */
  public readonly pricesRecorded: string = PRICE_TABLE.recorded;

  private constructor(items: CostLineItem[]) {
    this.items = [...items].sort((a, b) => b.monthlyUsd - a.monthlyUsd);
    this.totalMonthlyUsd = round(items.reduce((sum, i) => sum + i.monthlyUsd, 0));
  }
}

function round(usd: number): number {
  return Math.round(usd * 100) / 100;
}
